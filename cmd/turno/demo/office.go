// Package demo seeds the demo office: its catalogue, desks, staff, users and devices, its planning data
// and eight weeks of ticket history, through each part's own methods. It is what "turno demo" and
// "turno serve --demo" run and what the tests start from; it is idempotent and only adds what is missing.
package demo

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"turno/internal/auth"
	"turno/internal/web"
	"turno/ticketing"
)

// OfficeSlug is the slug of the seeded demo office.
const OfficeSlug = "demo"

// Demo device tokens, printed by `make run`.
const (
	KioskToken   = "demo-kiosk"
	DisplayToken = "demo-display"
	// TabletToken is the demo office's feedback tablet, paired to desk 1.
	TabletToken = "demo-tablet"
)

// Password is the password of every demo user. It passes the password rules (auth.CheckPassword), as
// every password must, but it is public: the demo is not for real data.
const Password = "turno-demo-2026"

type demoService struct {
	agency, code, audience, category, prefix, it, en string
	handling, target                                 int
	bringIT, bringEN                                 string
}

// demoServices model a real multi-agency counter: the town hall's registry, taxes, social services and
// building desk, plus the pension agency and an energy utility, for citizens and businesses.
var demoServices = []demoService{
	{"comune", "cie", ticketing.Citizen, "anagrafe", "A", "Carta d'identità elettronica", "Electronic identity card", 900, 1800,
		"Vecchio documento, una fototessera recente, tessera sanitaria, ricevuta del pagamento", "Old ID, a recent passport photo, health card, payment receipt"},
	{"comune", "certificati", ticketing.Citizen, "anagrafe", "C", "Certificati anagrafici", "Registry certificates", 300, 900,
		"Documento d'identità; marca da bollo se richiesta", "Identity document; revenue stamp if required"},
	{"comune", "residenza", ticketing.Citizen, "anagrafe", "R", "Cambio di residenza", "Change of residence", 1200, 1800,
		"Documenti di tutti i componenti, contratto d'affitto o atto di proprietà, targhe dei veicoli", "IDs of everyone moving, lease or deed, vehicle plates"},
	{"comune", "tributi", ticketing.Citizen, "tributi", "T", "Tributi comunali (IMU, TARI)", "Local taxes (IMU, TARI)", 900, 1800,
		"Codice fiscale, avvisi di pagamento ricevuti", "Tax code, payment notices received"},
	{"comune", "isee", ticketing.Citizen, "sociale", "S", "Servizi sociali e ISEE", "Social services and ISEE", 1200, 2400,
		"Documento, codice fiscale dei familiari, redditi e patrimoni, contratto d'affitto", "ID, tax codes of the household, income and assets, lease"},
	{"comune", "edilizia", ticketing.Citizen, "edilizia", "E", "Edilizia: informazioni e pratiche", "Building permits: information", 900, 2400,
		"Dati catastali dell'immobile, eventuale pratica già presentata", "Land registry data, any application already filed"},
	{"inps", "inps-pensioni", ticketing.Citizen, "inps", "P", "INPS: pensioni e prestazioni", "INPS: pensions and benefits", 1200, 2400,
		"Documento, codice fiscale, PIN/SPID se disponibile", "ID, tax code, SPID if you have it"},
	{"enel", "enel-bonus", ticketing.Citizen, "enel", "L", "Enel: forniture e bonus sociale", "Enel: supply and social bonus", 600, 1800,
		"Ultima bolletta, codice fiscale dell'intestatario", "Latest bill, account holder's tax code"},
	{"comune", "suap", ticketing.Business, "imprese", "B", "SUAP: attività produttive", "SUAP: business activities", 1500, 2400,
		"Visura camerale, documento del legale rappresentante", "Chamber of commerce extract, legal representative's ID"},
	{"inps", "inps-imprese", ticketing.Business, "imprese", "Z", "INPS: aziende e contributi", "INPS: employers and contributions", 1200, 2400,
		"Matricola INPS dell'azienda, delega se non titolare", "Company INPS number, proxy if not the owner"},
	{"comune", "edilizia-imprese", ticketing.Business, "imprese", "G", "Edilizia: professionisti e imprese", "Building: professionals and firms", 1200, 2400,
		"Pratica SUE/SUAP, dati catastali", "SUE/SUAP file, land registry data"},
}

// demoTranslations give the demo services' names and what-to-bring in the kiosk's other languages
// (service code → language → {name, what to bring}), so a visitor reads them in their own language.
var demoTranslations = map[string]map[string][2]string{
	"cie": {
		"fr": {"Carte d'identité électronique", "Ancienne pièce d'identité, une photo d'identité récente, carte sanitaire, reçu de paiement"},
		"es": {"Documento de identidad electrónico", "Documento anterior, una foto de carné reciente, tarjeta sanitaria, justificante de pago"},
		"ro": {"Carte de identitate electronică", "Actul vechi, o fotografie recentă tip buletin, cardul de sănătate, dovada plății"},
		"sq": {"Letërnjoftim elektronik", "Dokumenti i vjetër, një fotografi e re për dokument, karta shëndetësore, mandati i pagesës"},
		"ar": {"بطاقة الهوية الإلكترونية", "الوثيقة القديمة، صورة شخصية حديثة، البطاقة الصحية، إيصال الدفع"},
		"zh": {"电子身份证", "旧证件、近期证件照一张、医疗卡、缴费收据"},
		"uk": {"Електронне посвідчення особи", "Старий документ, свіже фото на документи, медична картка, квитанція про оплату"},
	},
	"certificati": {
		"fr": {"Certificats d'état civil", "Pièce d'identité ; timbre fiscal si nécessaire"},
		"es": {"Certificados del padrón", "Documento de identidad; timbre fiscal si se requiere"},
		"ro": {"Certificate de stare civilă", "Act de identitate; timbru fiscal, dacă este necesar"},
		"sq": {"Certifikata të gjendjes civile", "Dokument identifikimi; pullë takse nëse kërkohet"},
		"ar": {"شهادات السجل المدني", "وثيقة هوية؛ طابع مالي إذا لزم الأمر"},
		"zh": {"户籍证明", "身份证件；如需要，请带印花税票"},
		"uk": {"Довідки з реєстру населення", "Документ, що посвідчує особу; гербова марка, якщо потрібно"},
	},
	"residenza": {
		"fr": {"Changement de résidence", "Pièces d'identité de toutes les personnes qui déménagent, bail ou acte de propriété, plaques des véhicules"},
		"es": {"Cambio de residencia", "Documentos de todas las personas que se mudan, contrato de alquiler o escritura, matrículas de los vehículos"},
		"ro": {"Schimbarea reședinței", "Actele tuturor celor care se mută, contractul de închiriere sau actul de proprietate, numerele vehiculelor"},
		"sq": {"Ndryshim vendbanimi", "Dokumentet e të gjithë atyre që zhvendosen, kontrata e qirasë ose akti i pronësisë, targat e automjeteve"},
		"ar": {"تغيير محل الإقامة", "وثائق جميع المنتقلين، عقد الإيجار أو سند الملكية، لوحات أرقام المركبات"},
		"zh": {"变更居住地", "所有迁居人员的证件、租房合同或房产证、车辆牌照"},
		"uk": {"Зміна місця проживання", "Документи всіх, хто переїжджає, договір оренди або документ про власність, номери транспортних засобів"},
	},
	"tributi": {
		"fr": {"Impôts locaux (IMU, TARI)", "Code fiscal, avis de paiement reçus"},
		"es": {"Impuestos municipales (IMU, TARI)", "Código fiscal, avisos de pago recibidos"},
		"ro": {"Taxe locale (IMU, TARI)", "Codul fiscal, înștiințările de plată primite"},
		"sq": {"Taksat vendore (IMU, TARI)", "Kodi fiskal, njoftimet e pagesës të marra"},
		"ar": {"الضرائب المحلية (IMU، TARI)", "الرمز الضريبي، إشعارات الدفع المستلمة"},
		"zh": {"地方税（IMU、TARI）", "税号、收到的缴费通知"},
		"uk": {"Місцеві податки (IMU, TARI)", "Податковий код, отримані повідомлення про оплату"},
	},
	"isee": {
		"fr": {"Services sociaux et ISEE", "Pièce d'identité, codes fiscaux du foyer, revenus et patrimoine, bail"},
		"es": {"Servicios sociales e ISEE", "Documento, códigos fiscales de la familia, ingresos y patrimonio, contrato de alquiler"},
		"ro": {"Servicii sociale și ISEE", "Act de identitate, codurile fiscale ale familiei, venituri și bunuri, contractul de închiriere"},
		"sq": {"Shërbime sociale dhe ISEE", "Dokument identifikimi, kodet fiskale të familjes, të ardhurat dhe pasuria, kontrata e qirasë"},
		"ar": {"الخدمات الاجتماعية وشهادة ISEE", "وثيقة هوية، الرموز الضريبية لأفراد الأسرة، الدخل والممتلكات، عقد الإيجار"},
		"zh": {"社会服务和ISEE", "证件、家庭成员税号、收入和财产、租房合同"},
		"uk": {"Соціальні послуги та ISEE", "Документ, податкові коди членів сім'ї, доходи та майно, договір оренди"},
	},
	"edilizia": {
		"fr": {"Urbanisme : informations et dossiers", "Données cadastrales du bien, dossier déjà déposé le cas échéant"},
		"es": {"Urbanismo: información y trámites", "Datos catastrales del inmueble, trámite ya presentado si lo hay"},
		"ro": {"Construcții: informații și dosare", "Datele cadastrale ale imobilului, eventualul dosar deja depus"},
		"sq": {"Ndërtimi: informacione dhe praktika", "Të dhënat kadastrale të pronës, praktika e paraqitur më parë nëse ka"},
		"ar": {"البناء: معلومات وملفات", "البيانات العقارية للعقار، الملف المقدَّم سابقًا إن وجد"},
		"zh": {"建筑：咨询与申请", "房产的地籍信息、已提交的申请（如有）"},
		"uk": {"Будівництво: інформація та документи", "Кадастрові дані нерухомості, вже подана заява (якщо є)"},
	},
	"inps-pensioni": {
		"fr": {"INPS : retraites et prestations", "Pièce d'identité, code fiscal, SPID si vous l'avez"},
		"es": {"INPS: pensiones y prestaciones", "Documento, código fiscal, SPID si lo tiene"},
		"ro": {"INPS: pensii și prestații", "Act de identitate, cod fiscal, SPID dacă aveți"},
		"sq": {"INPS: pensione dhe përfitime", "Dokument identifikimi, kodi fiskal, SPID nëse e keni"},
		"ar": {"INPS: المعاشات والإعانات", "وثيقة هوية، الرمز الضريبي، SPID إن وجد"},
		"zh": {"INPS：养老金和福利", "证件、税号、SPID（如有）"},
		"uk": {"INPS: пенсії та виплати", "Документ, податковий код, SPID, якщо є"},
	},
	"enel-bonus": {
		"fr": {"Enel : fourniture et bonus social", "Dernière facture, code fiscal du titulaire du contrat"},
		"es": {"Enel: suministro y bono social", "Última factura, código fiscal del titular"},
		"ro": {"Enel: furnizare și bonus social", "Ultima factură, codul fiscal al titularului"},
		"sq": {"Enel: furnizimi dhe bonusi social", "Fatura e fundit, kodi fiskal i mbajtësit të kontratës"},
		"ar": {"Enel: التزويد بالكهرباء والمنحة الاجتماعية", "آخر فاتورة، الرمز الضريبي لصاحب العقد"},
		"zh": {"Enel：供电和社会补贴", "最近一期账单、户主税号"},
		"uk": {"Enel: постачання та соціальний бонус", "Останній рахунок, податковий код власника договору"},
	},
	"suap": {
		"fr": {"SUAP : activités économiques", "Extrait du registre du commerce, pièce d'identité du représentant légal"},
		"es": {"SUAP: actividades empresariales", "Certificado de la cámara de comercio, documento del representante legal"},
		"ro": {"SUAP: activități economice", "Extras de la camera de comerț, actul de identitate al reprezentantului legal"},
		"sq": {"SUAP: veprimtari ekonomike", "Ekstrakt nga dhoma e tregtisë, dokumenti i përfaqësuesit ligjor"},
		"ar": {"SUAP: الأنشطة التجارية", "مستخرج من الغرفة التجارية، هوية الممثل القانوني"},
		"zh": {"SUAP：经营活动", "商会登记摘要、法定代表人证件"},
		"uk": {"SUAP: підприємницька діяльність", "Виписка з торгової палати, документ законного представника"},
	},
	"inps-imprese": {
		"fr": {"INPS : employeurs et cotisations", "Numéro INPS de l'entreprise, procuration si vous n'êtes pas le titulaire"},
		"es": {"INPS: empresas y cotizaciones", "Número INPS de la empresa, poder si no es el titular"},
		"ro": {"INPS: angajatori și contribuții", "Numărul INPS al firmei, procură dacă nu sunteți titularul"},
		"sq": {"INPS: punëdhënës dhe kontribute", "Numri INPS i shoqërisë, prokurë nëse nuk jeni pronari"},
		"ar": {"INPS: أصحاب العمل والاشتراكات", "رقم الشركة لدى INPS، توكيل إذا لم تكن صاحبها"},
		"zh": {"INPS：雇主和社保缴费", "公司的INPS编号；非本人办理需带委托书"},
		"uk": {"INPS: роботодавці та внески", "Номер INPS підприємства, довіреність, якщо ви не власник"},
	},
	"edilizia-imprese": {
		"fr": {"Urbanisme : professionnels et entreprises", "Dossier SUE/SUAP, données cadastrales"},
		"es": {"Urbanismo: profesionales y empresas", "Expediente SUE/SUAP, datos catastrales"},
		"ro": {"Construcții: profesioniști și firme", "Dosarul SUE/SUAP, date cadastrale"},
		"sq": {"Ndërtimi: profesionistë dhe firma", "Praktika SUE/SUAP, të dhënat kadastrale"},
		"ar": {"البناء: المهنيون والشركات", "ملف SUE/SUAP، البيانات العقارية"},
		"zh": {"建筑：专业人士和企业", "SUE/SUAP申请材料、地籍信息"},
		"uk": {"Будівництво: фахівці та фірми", "Справа SUE/SUAP, кадастрові дані"},
	},
}

var demoDesks = []ticketing.Desk{
	{Number: 1, Name: "Sportello 1", Audience: ticketing.Citizen, Services: []string{"cie", "certificati", "residenza"}},
	{Number: 2, Name: "Sportello 2", Audience: ticketing.Citizen, Services: []string{"cie", "certificati", "residenza", "tributi"}},
	{Number: 3, Name: "Sportello 3", Audience: ticketing.Citizen, Services: []string{"certificati", "tributi", "isee", "edilizia"}},
	{Number: 4, Name: "Sportello 4", Audience: ticketing.Citizen, Services: []string{"inps-pensioni", "enel-bonus", "isee", "certificati"}},
	{Number: 5, Name: "Sportello 5 – Imprese", Audience: ticketing.Business, Services: []string{"suap", "inps-imprese", "edilizia-imprese"}},
	{Number: 6, Name: "Sportello 6 – Imprese", Audience: ticketing.Business, Services: []string{"suap", "edilizia-imprese", "edilizia", "tributi"}},
}

// Skill levels, short for the table below.
const (
	primary   = ticketing.Primary
	secondary = ticketing.Secondary
	learning  = ticketing.Learning
)

// demoStaff: ten people with mixed skills (service → level). op1…op6 sign in as the first six.
var demoStaff = []ticketing.Staff{
	{Code: "S01", FullName: "Giulia Rossi", Skills: map[string]ticketing.SkillLevel{"cie": primary, "certificati": primary, "residenza": primary, "tributi": secondary}},
	{Code: "S02", FullName: "Marco Bianchi", Skills: map[string]ticketing.SkillLevel{"cie": primary, "certificati": primary, "residenza": secondary, "tributi": primary}},
	{Code: "S03", FullName: "Francesca Esposito", Skills: map[string]ticketing.SkillLevel{"isee": primary, "tributi": primary, "certificati": secondary, "edilizia": learning}},
	{Code: "S04", FullName: "Luca Romano", Skills: map[string]ticketing.SkillLevel{"inps-pensioni": primary, "enel-bonus": primary, "isee": secondary, "certificati": secondary}},
	{Code: "S05", FullName: "Sara Colombo", Skills: map[string]ticketing.SkillLevel{"suap": primary, "inps-imprese": primary, "edilizia-imprese": secondary}},
	{Code: "S06", FullName: "Andrea Ricci", Skills: map[string]ticketing.SkillLevel{"suap": secondary, "edilizia-imprese": primary, "edilizia": primary, "tributi": learning}},
	{Code: "S07", FullName: "Chiara Marino", Skills: map[string]ticketing.SkillLevel{"cie": secondary, "certificati": primary, "isee": primary, "inps-pensioni": learning}},
	{Code: "S08", FullName: "Davide Greco", Skills: map[string]ticketing.SkillLevel{"enel-bonus": primary, "inps-pensioni": secondary, "certificati": primary}},
	{Code: "S09", FullName: "Elena Bruno", Skills: map[string]ticketing.SkillLevel{"residenza": primary, "cie": primary, "tributi": secondary, "isee": learning}},
	{Code: "S10", FullName: "Paolo Gallo", Skills: map[string]ticketing.SkillLevel{"inps-imprese": secondary, "suap": primary, "tributi": primary, "edilizia": secondary}},
}

// SeedOffice creates what is missing of the demo office: the office itself, agencies, services, desks,
// priority categories, opening hours, ten staff, users admin (of every office), manager and op1…op6
// (password Password) and the demo kiosk and display. What exists is left as it is: a manager's edits,
// changed passwords and revoked devices survive a restart with --demo. The office keeps realistic opening hours for planning but
// issues tickets around the clock so the demo works at any hour.
func SeedOffice(ctx context.Context, s *ticketing.Store, a *auth.Store) (*ticketing.Office, error) {
	return seedTown(ctx, s, a, demoTown())
}

// seedTown creates what is missing of one demo town's office.
func seedTown(ctx context.Context, s *ticketing.Store, a *auth.Store, t *town) (*ticketing.Office, error) {
	o, err := seedOfficeRow(ctx, s, t)
	if err != nil {
		return nil, err
	}
	if err := seedCatalogue(ctx, s, o, t); err != nil {
		return nil, err
	}
	staffIDs, err := seedStaff(ctx, s, o, t)
	if err != nil {
		return nil, err
	}
	if err := seedAccounts(ctx, a, o, t, staffIDs); err != nil {
		return nil, err
	}
	return o, nil
}

func seedOfficeRow(ctx context.Context, s *ticketing.Store, t *town) (*ticketing.Office, error) {
	if o, err := s.Office(ctx, t.office.Slug); err == nil {
		return o, nil
	}
	o := t.office
	if _, err := s.SaveOffice(ctx, &o); err != nil {
		return nil, err
	}
	return &o, nil
}

// seedCatalogue adds the agencies, services, desks, priority categories and opening hours the office lacks.
func seedCatalogue(ctx context.Context, s *ticketing.Store, o *ticketing.Office, t *town) error {
	agencies, err := s.Agencies(ctx, o.ID)
	if err != nil {
		return err
	}
	for _, ag := range t.agencies {
		if slices.ContainsFunc(agencies, func(x *ticketing.Agency) bool { return x.Code == ag.Code }) {
			continue
		}
		ag.OfficeID = o.ID
		if err := s.SaveAgency(ctx, &ag); err != nil {
			return err
		}
	}
	for i, d := range t.services {
		if _, err := s.ServiceByCode(ctx, o.ID, d.code); err == nil {
			continue
		}
		names, bring := map[string]string{"it": d.it, "en": d.en}, map[string]string{"it": d.bringIT, "en": d.bringEN}
		for lang, tr := range demoTranslations[d.code] {
			names[lang], bring[lang] = tr[0], tr[1]
		}
		sv := &ticketing.Service{OfficeID: o.ID, Agency: d.agency, Code: d.code, Audience: d.audience, Category: d.category,
			Prefix: d.prefix, Names: names, WhatToBring: bring,
			ExpectedHandlingSeconds: d.handling, WaitTargetSeconds: d.target, Active: true, SortOrder: i}
		if err := s.SaveService(ctx, sv); err != nil {
			return err
		}
	}
	for _, d := range t.desks {
		if _, err := s.DeskByNumber(ctx, o.ID, d.Number); err == nil {
			continue
		}
		d.OfficeID, d.Active = o.ID, true
		if err := s.SaveDesk(ctx, &d); err != nil {
			return err
		}
	}
	for _, p := range []ticketing.PriorityCategory{
		{Code: "disabilita", Labels: map[string]string{"it": "Persona con disabilità", "en": "Person with disability"}, BonusSeconds: 900, Active: true},
		{Code: "gravidanza", Labels: map[string]string{"it": "Donna in gravidanza", "en": "Pregnant woman"}, BonusSeconds: 900, Active: true},
		{Code: "over75", Labels: map[string]string{"it": "Over 75", "en": "Aged 75 or over"}, BonusSeconds: 600, Active: true},
	} {
		if _, err := s.PriorityCategory(ctx, o.ID, p.Code); err == nil {
			continue
		}
		if err := s.SavePriorityCategory(ctx, o.ID, &p); err != nil {
			return err
		}
	}
	hours, err := s.WeeklyHours(ctx, o)
	if err != nil {
		return err
	}
	for _, ivs := range hours.Hours {
		if len(ivs) > 0 {
			return nil // the office has hours already
		}
	}
	return s.SetWeeklyHours(ctx, o.ID, t.hours)
}

// seedStaff adds the staff members the office lacks and returns every demo staff member's id by code.
func seedStaff(ctx context.Context, s *ticketing.Store, o *ticketing.Office, t *town) (map[string]int64, error) {
	ids := map[string]int64{}
	for _, st := range t.staff {
		if have, err := s.StaffByCode(ctx, o.ID, st.Code); err == nil {
			ids[st.Code] = have.ID
			continue
		}
		st.OfficeID, st.Active = o.ID, true
		if err := s.SaveStaff(ctx, &st); err != nil {
			return nil, err
		}
		ids[st.Code] = st.ID
	}
	return ids, nil
}

// seedAccounts adds the demo users and devices that do not exist; existing ones keep their passwords and
// a revoked device stays revoked.
func seedAccounts(ctx context.Context, a *auth.Store, o *ticketing.Office, t *town, staffIDs map[string]int64) error {
	var users []auth.NewUser
	if t.admin {
		users = append(users, auth.NewUser{Username: "admin", Role: auth.Admin, DisplayName: "Amministratore", AllOffices: true})
	}
	users = append(users, auth.NewUser{Username: t.manager, Role: auth.Manager, DisplayName: "Responsabile sportello",
		OfficeID: o.ID, StaffID: staffIDs[t.managerStaff]})
	for i := 1; i <= t.operators; i++ {
		users = append(users, auth.NewUser{Username: fmt.Sprintf("%s%d", t.operatorPrefix, i), Role: auth.Operator,
			DisplayName: t.staff[i-1].FullName, OfficeID: o.ID, StaffID: staffIDs[t.staff[i-1].Code]})
	}
	// Hashing a password is slow on purpose: users that exist are skipped before it.
	existing, err := a.OfficeUsers(ctx, o.ID)
	if err != nil {
		return err
	}
	for _, u := range users {
		if slices.ContainsFunc(existing, func(x *auth.OfficeUser) bool { return x.Username == u.Username }) {
			continue
		}
		u.Password = Password
		if _, err := a.CreateUser(ctx, u, false); err != nil {
			var we *web.Error
			if errors.As(err, &we) && we.Code == "username_taken" {
				continue
			}
			return err
		}
	}
	if _, err := a.EnsureDevice(ctx, o.ID, auth.Kiosk, "Totem ingresso", t.kiosk); err != nil {
		return err
	}
	if _, err = a.EnsureDevice(ctx, o.ID, auth.Display, "Tabellone sala", t.display); err != nil || t.tablet == "" {
		return err
	}
	tablet, err := a.EnsureDevice(ctx, o.ID, auth.Feedback, "Tablet gradimento sportello 1", t.tablet)
	if err != nil || len(tablet.Settings) > 0 {
		return err // a tablet the manager has paired elsewhere keeps its desk
	}
	_, err = a.SaveDeviceSettings(ctx, o.ID, tablet.ID, auth.Feedback, map[string]any{"desk": 1})
	return err
}
